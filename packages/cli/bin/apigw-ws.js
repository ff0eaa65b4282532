#!/usr/bin/env node
// The executable stays in the repository so package managers can link it before a build; the
// command itself is the compiled CLI.
import '../dist/cli.js'
