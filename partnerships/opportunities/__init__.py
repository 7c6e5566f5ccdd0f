"""Secondments and shadowing: host organisations post opportunities, staff apply with
their line manager's approval, hosts accept, and placements are recorded and counted
(/opportunities/..., /my/applications, /my/opportunities, /placements/<id>/, and
/organisations/<slug>/opportunity-posters where admins choose who else may post)."""
