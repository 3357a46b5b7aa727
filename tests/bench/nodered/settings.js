// Node-RED settings for the peer in ./kaoko bench (tests/bench). kaoko-bench copies this file and flows.json into a
// fresh user directory and starts Node-RED headless:
//
//   KAOKO_NODERED_MODULES=<dir>/node_modules KAOKO_PEER_MQTT_PORT=… KAOKO_PEER_DB=… KAOKO_PEER_STATIONS=… \
//     node <dir>/node_modules/node-red/red.js --userDir <userDir> --settings <userDir>/settings.js
//
// No editor, no admin API, no HTTP listener at all (httpAdminRoot and httpNodeRoot are off): nothing but the flow.
// The broker account's name and password are in <userDir>/flows_cred.json, written by kaoko-bench in clear text
// (credentialSecret: false) for the private, loopback-only bench broker.
const path = require('path');

const modules = process.env.KAOKO_NODERED_MODULES || path.join(__dirname, 'node_modules');

module.exports = {
  flowFile: 'flows.json',
  flowFilePretty: true,
  credentialSecret: false,

  uiHost: '127.0.0.1',
  httpAdminRoot: false,
  httpNodeRoot: false,
  disableEditor: true,

  // The function node gets better-sqlite3 (installed beside Node-RED), fs (to read the stations file) and the
  // monotonic clock (benchmark instrumentation only) through the global context.
  functionExternalModules: false,
  functionGlobalContext: {
    Database: require(path.join(modules, 'better-sqlite3')),
    fs: require('fs'),
    monotonicNs: () => process.hrtime.bigint(),
  },
  functionTimeout: 0,

  contextStorage: { default: { module: 'memory' } },
  exportGlobalContextKeys: false,
  externalModules: { autoInstall: false, palette: { allowInstall: false, allowUpdate: false, allowUpload: false } },

  logging: { console: { level: 'info', metrics: false, audit: false } },
  diagnostics: { enabled: false, ui: false },
  runtimeState: { enabled: false, ui: false },
  telemetry: { enabled: false, updateNotification: false },
  editorTheme: { projects: { enabled: false } },
};
