//  validate.mjs - checks Kubernetes manifests against the API's schemas.
//  Every document of every file given is looked up by apiVersion and kind
//  in kubernetes-models (the Kubernetes OpenAPI schemas compiled to ajv
//  validators) and validated: required fields, types, formats, enums.  An
//  apiVersion/kind the API does not have is an error too.
//  Usage: node validate.mjs FILE.yaml...   exit 0 if all are valid.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

let bad = 0, checked = 0;

for (const file of process.argv.slice(2)) {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  for (const doc of docs) {
    if (doc.errors.length) { console.error(`${file}: YAML: ${doc.errors[0].message}`); bad++; continue; }
    const obj = doc.toJS();
    if (!obj) continue;
    const where = `${file}: ${obj.kind} ${obj.metadata && obj.metadata.name}`;
    const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
    let Model;
    try {
      Model = (await import(`kubernetes-models/${group ? group + '/' : ''}${version}/${obj.kind}`))[obj.kind];
    } catch (e) {
      console.error(`${where}: no schema for apiVersion ${obj.apiVersion} kind ${obj.kind}`);
      bad++;
      continue;
    }
    checked++;
    try {
      new Model(obj).validate();
    } catch (e) {
      console.error(`${where}: ${e.message}`);
      bad++;
      continue;
    }
  }
}
console.log(`${checked} objects checked, ${bad} invalid`);
process.exit(bad || checked === 0 ? 1 : 0);
