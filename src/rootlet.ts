#!/usr/bin/env node
import { main } from './cli/main.js';

// A reader that stops early (`rootlet up --help | head`) closes stdout: nothing more to say, and no stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    stream.destroy();
  });
}

await main(process.argv);
