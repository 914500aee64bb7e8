#!/usr/bin/env node
import { runCli } from '../dist/src/cli/run-cli.js';
import { evalMain } from '../dist/src/cli/eval-cli.js';

await runCli('cnn-eval', evalMain);
