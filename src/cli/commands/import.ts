import { defineCommand, JSON_OPTION, print, printJson, usage } from "../command.js";

export const importMail = defineCommand({
  name: "import",
  args: [{ name: "PATH", variadic: true }],
  summary: "import mail from .eml files, Maildir folders and mbox files (migration, backlog)",
  options: {
    notify: { type: "boolean", help: "queue the notifications as for mail from the mailbox (default: none)" },
    ...JSON_OPTION,
  },
  help: `Imports mail from files through the same pipeline as IMAP mail, in the order given:
  FILE.eml     one message (any file that does not start with an mbox "From " line)
  FOLDER       a Maildir (new/ and cur/ in delivery order, never tmp/; Maildir++ subfolders
               such as .Sent are not descended into: name one to import it), or a folder of .eml files
  FILE.mbox    an mbox file (first line "From "), read as a stream; mboxrd ">From " lines unquoted
Importing the same files again changes nothing: a mail is known by its bytes, wherever it lies;
the same Message-ID in other bytes is skipped as a duplicate.
No notifications are sent for imported mail (a backlog must not mail every old customer);
--notify queues them as for mail from the mailbox.
Prints a summary: tickets created, replies threaded, duplicates, already imported, our own mail
ignored, reports (bounces, DSNs, ARF), and one line per mail that failed (--json: the summary
as JSON; see the README for its shape).
Exit code 0 when no mail failed (reports are not failures), 1 when some failed or the import
stopped early (run it again to continue; imported mails are skipped), 2 on a usage or
configuration error.`,
  async run(call) {
    const { closeDb, openGateway } = await import("../gateway.js");
    const { formatImportSummary, importSummaryJson, runImport, terminalProgress } = await import("../import.js");
    const paths = call.args;
    if (paths.some((p) => p.trim() === "")) usage("import: an empty PATH");
    const ctx = await openGateway(call.config(), call.logger());
    ctx.quiet = !call.opts.notify;
    const progress = call.opts.json ? undefined : terminalProgress(process.stderr);
    try {
      const summary = await runImport(ctx, paths, { progress });
      progress?.finish();
      if (call.opts.json) printJson(importSummaryJson(summary), false);
      else print(formatImportSummary(summary));
      return summary.failed.length > 0 || summary.stoppedBy ? 1 : 0;
    } finally {
      progress?.finish();
      await closeDb(ctx.db);
    }
  },
});
