import { formatReference, inspectTags, type TicketTagFormat } from "../../../mail/subject.js";
import type { TicketFacts } from "../../facts.js";
import type { CommandHandler } from "../types.js";
import { mayWork, setStatus } from "../rules.js";

/** How many merge pointers are followed before giving up (a chain, never a loop: a merged ticket takes no mail). */
const MAX_HOPS = 10;

/**
 * The ticket a #merge argument names, when its tag is right: with a reference secret the check
 * must match (a mistyped number must not fold a ticket into a stranger's). Null: no such tag.
 */
export function mergeTargetId(target: string, format: TicketTagFormat): { id: number } | { error: string } {
  const [tag] = inspectTags(`[#${target}]`, format);
  if (!tag) return { error: `"${target}" is not one of our ticket tags (${formatReference(format, 12)}-…)` };
  return tag.valid ? { id: tag.ticketId } : { error: `${tag.reason}: copy the tag from the ticket's subject` };
}

/** The ticket a merge really goes into: a merged target's pointer is followed to the ticket that lives on. */
export function followMerged(id: number, others: Map<number, TicketFacts>): { target: TicketFacts | null; path: number[] } {
  const path: number[] = [];
  let t = others.get(id) ?? null;
  while (t?.row.mergedIntoId && path.length < MAX_HOPS) {
    path.push(t.row.id);
    t = others.get(t.row.mergedIntoId) ?? null;
  }
  return { target: t, path };
}

/**
 * #merge / #zusammenführen <tag>: folds this ticket into the named one. Its messages (with their
 * attachments) and people move there, later mail to either tag lands there, and this ticket is
 * closed with a pointer. A target that was itself merged is followed to where it went.
 */
export const merge: CommandHandler<"merge"> = (t, cmd, env, fx) => {
  const denied = mayWork(env.dir, t, env.actor);
  if (denied) return denied;
  if (env.isNew) return `${cmd.source.split(/\s/)[0]} works on a ticket: reply to one of the mails of the ticket to merge`;
  if (fx.merge) return "one #merge per mail";
  const named = mergeTargetId(cmd.target, env.tagFormat);
  if ("error" in named) return named.error;
  const { target, path } = followMerged(named.id, env.others);
  const ref = formatReference(env.tagFormat, named.id);
  if (!target) return `${ref} does not exist`;
  const into = formatReference(env.tagFormat, target.row.id);
  const via = path.length ? ` (${ref} was merged into ${into})` : "";
  if (target.row.id === t.id) return path.length ? `${ref} was merged into this ticket already` : "a ticket cannot be merged into itself";
  if (target.row.status === "resolved") return `${into}${via} is resolved; #reopen it first, or merge it into this one`;
  const theirs = mayWork(env.dir, target.row, env.actor);
  if (theirs) return `cannot merge into ${into}${via}: ${theirs}`;
  setStatus(t, "resolved", fx, env.now);
  t.resolution = `merged into ${into}`;
  t.mergedIntoId = target.row.id;
  fx.merge = target;
  fx.events.push({ action: "merged", detail: `into ${into}${via}` });
  fx.changes.push({ kind: "merged", to: into });
  return null;
};
