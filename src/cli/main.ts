#!/usr/bin/env node
import { runCommandLine } from "./dispatch.js";

/*
 * The process ends by itself once the command is done and stdout has drained: process.exit()
 * right after a write cuts a pipe's output at what the reader had taken (64 KiB on Linux).
 */

// A reader that went away (`ticketpost tickets list | head -1`) is not an error of ours.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE") throw err;
  });
}

/** Resolves once everything written so far has been handed to the operating system. */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write("", () => resolve()));
}

process.exitCode = await runCommandLine(process.argv.slice(2));
await Promise.all([drained(process.stdout), drained(process.stderr)]);
// Everything is written; a connection a library left open must not keep the command running.
setTimeout(() => process.exit(), 2000).unref();
