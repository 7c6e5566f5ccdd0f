// Read an iCalendar file on stdin with Mozilla's ical.js (the parser Thunderbird uses)
// and print every occurrence as JSON: [{uid, start_utc, end_utc, status, sequence,
// summary}], sorted by start then UID.
//
// As a calendar app would: the file's own VTIMEZONEs are registered, and each UID's
// events are expanded together, a main event with its RRULE/RDATE/EXDATE and the
// RECURRENCE-ID exceptions that belong to it. Run by tests/test_calendar_parsers.py.
import ICAL from "ical.js";

const MAX_OCCURRENCES = 5000;

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

function utc(time) {
  return time.convertToZone(ICAL.Timezone.utcTimezone).toString().replace(/Z?$/, "Z");
}

function occurrence(item, start, end) {
  const component = item.component;
  return {
    uid: item.uid,
    start_utc: utc(start),
    end_utc: utc(end),
    status: component.getFirstPropertyValue("status") ?? null,
    sequence: component.getFirstPropertyValue("sequence") ?? 0,
    summary: item.summary ?? null,
  };
}

const root = new ICAL.Component(ICAL.parse(await readStdin()));
for (const vtimezone of root.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(vtimezone);
}

const byUid = new Map();
for (const vevent of root.getAllSubcomponents("vevent")) {
  const uid = vevent.getFirstPropertyValue("uid");
  if (!byUid.has(uid)) byUid.set(uid, []);
  byUid.get(uid).push(vevent);
}

const out = [];
for (const components of byUid.values()) {
  const main = components.find((c) => !c.hasProperty("recurrence-id"));
  const exceptions = components.filter((c) => c.hasProperty("recurrence-id"));
  if (!main) {
    for (const c of exceptions) {
      const event = new ICAL.Event(c);
      out.push(occurrence(event, event.startDate, event.endDate));
    }
    continue;
  }
  const event = new ICAL.Event(main);
  for (const c of exceptions) event.relateException(c);
  if (!event.isRecurring()) {
    out.push(occurrence(event, event.startDate, event.endDate));
    continue;
  }
  const iterator = event.iterator();
  let next;
  let count = 0;
  while ((next = iterator.next()) && count < MAX_OCCURRENCES) {
    const details = event.getOccurrenceDetails(next);
    out.push(occurrence(details.item, details.startDate, details.endDate));
    count += 1;
  }
}

out.sort((a, b) => (a.start_utc < b.start_utc ? -1 : a.start_utc > b.start_utc ? 1
  : a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0));
process.stdout.write(JSON.stringify(out));
