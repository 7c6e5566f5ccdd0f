"""Meetings of forums: scheduling and series, agendas and papers, item requests,
registration and waiting lists, attendance, minutes, decisions and actions, and
calendar downloads and feeds."""
