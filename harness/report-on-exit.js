// Preloaded (NODE_OPTIONS --require) by language-host.ts into the program's process, for
// measurement only: at exit, write the process's peak RSS, its CPU time and every file it loaded through
// `require` to $VEZA_REPORT_FILE. It loads nothing itself, so it changes no timing that matters.
"use strict";
const fs = require("node:fs");

process.on("exit", () => {
  const file = process.env.VEZA_REPORT_FILE;
  if (!file) return;
  const usage = process.resourceUsage();
  const cpuMs = Math.round((usage.userCPUTime + usage.systemCPUTime) / 1000);
  fs.writeFileSync(file, JSON.stringify({ maxRssKb: usage.maxRSS, cpuMs, files: Object.keys(require.cache) }));
});
