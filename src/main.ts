#!/usr/bin/env node
import { runCli } from './cli/index.js';

const code = await runCli(process.argv);
process.exitCode = code;
