#!/usr/bin/env node
import { runCli } from '../dist/src/cli/run-cli.js';
import { trainMain } from '../dist/src/cli/train-cli.js';

await runCli('cnn-train', trainMain);
