// Preloaded (NODE_OPTIONS --require) by language-host.ts into the program's process, for
// measurement only: at exit, write the process's peak RSS and every file it loaded through
// `require` to $VEZA_REPORT_FILE. It loads nothing itself, so it changes no timing that matters.
"use strict";
const fs = require("node:fs");

process.on("exit", () => {
  const file = process.env.VEZA_REPORT_FILE;
  if (!file) return;
  fs.writeFileSync(file, JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS, files: Object.keys(require.cache) }));
});
