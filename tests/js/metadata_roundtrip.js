// jsforce reads a ConnectedApp and an External Client App's global OAuth settings from the
// Metadata API at INSTANCE_URL, writes each back with a new certificate, and prints what it
// read and what the saves answered, as JSON on stdout. Driven by tests/test_jsforce_e2e.py.
//   node metadata_roundtrip.js  (env: INSTANCE_URL, ACCESS_TOKEN, CERT_APP, CERT_ECA)
"use strict";
const jsforce = require("jsforce");

async function main() {
  const conn = new jsforce.Connection({
    instanceUrl: process.env.INSTANCE_URL,
    accessToken: process.env.ACCESS_TOKEN,
    version: "63.0",
  });
  const app = await conn.metadata.read("ConnectedApp", "Acme");
  const eca = await conn.metadata.read("ExtlClntAppGlobalOauthSettings", "Ext_glbloauth");
  const read = JSON.parse(JSON.stringify({ app, eca }));
  app.oauthConfig.certificate = process.env.CERT_APP;
  delete app.oauthConfig.consumerKey;
  eca.certificate = process.env.CERT_ECA;
  delete eca.consumerKey;
  const savedApp = await conn.metadata.update("ConnectedApp", app);
  const savedEca = await conn.metadata.update("ExtlClntAppGlobalOauthSettings", eca);
  let fault = null;
  try {
    const bad = new jsforce.Connection({
      instanceUrl: process.env.INSTANCE_URL, accessToken: "00Dnot!valid", version: "63.0",
    });
    await bad.metadata.read("ConnectedApp", "Acme");
  } catch (e) {
    fault = { name: e.name, message: e.message };
  }
  process.stdout.write(JSON.stringify({ read, saved: [savedApp, savedEca], fault }) + "\n");
}

main().catch((e) => {
  process.stderr.write(`jsforce: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
