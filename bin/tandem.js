#!/usr/bin/env node
// The published entry: runs the compiled CLI (built by `npm install` through the `prepare` script).
import "../dist/bundle/main.js";
