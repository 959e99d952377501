import type { Ticket } from "../../db/entities.js";
import { parseCommands, type Command } from "../../mail/commands.js";
import { parseFieldLines, priorityFromHeaders, type FieldValues } from "../../mail/field-lines.js";
import { requesterOf } from "../../mail/parse.js";
import type { MailAddress } from "../../mail/types.js";
import type { DepartmentConfig } from "../../config/schema.js";
import { formatReference, titleFromSubject } from "../../mail/subject.js";
import { personOf, type Person } from "../directory.js";
import { messageKey, type MailFacts, type TicketFacts } from "../facts.js";
import { routeMail } from "../routing.js";
import { step, type TrailStep } from "../trail.js";
import { runCommands } from "./commands/index.js";
import type { PlanEnv } from "./env.js";
import { fileOf } from "./files.js";
import { commandMails, merge, planEvent, type NotifyResult } from "./notify.js";
import { joiningPeople, newWords } from "./people.js";
import { emptyPlan, failurePlan, type Plan, type TicketState } from "./plan.js";
import { requester } from "./rules.js";
import { emptyEffects } from "./types.js";

export interface NewTicketOptions {
  /** False for automatic mail (RFC 3834): it gets no acknowledgement. */
  acknowledge: boolean;
  /** A late reply to this closed ticket opens the new one (it stays in the closed one's department). */
  related?: TicketFacts;
  /** Trail entries that explain why this mail opens a ticket (a late reply, a stranger). */
  why?: TrailStep[];
}

/** Commands on top of an agent's new mail, once the mail is authenticated. */
function agentCommands(f: MailFacts, text: string): { commands: Command[]; errors: string[]; text: string; trail: TrailStep[] } {
  const parsed = parseCommands(text, f.now);
  if (parsed.commands.length === 0 && parsed.errors.length === 0) return { commands: [], errors: [], text, trail: [] };
  const auth = f.agentAuth ?? { ok: false, reason: "the sender is no configured agent" };
  const trail = [
    step("commands", auth.ok ? "agent" : "unverified", `${parsed.commands.map((c) => c.source).join(", ") || "-"}; ${auth.reason}`),
  ];
  return auth.ok
    ? { commands: parsed.commands, errors: parsed.errors, text: parsed.rest, trail }
    : { commands: [], errors: [`commands ignored: ${auth.reason}`], text, trail };
}

/** The ticket a new mail opens, before any command of an agent ran on it. */
function draftTicket(
  env: PlanEnv,
  f: MailFacts,
  who: MailAddress,
  text: string,
  fields: FieldValues,
  department: DepartmentConfig | null,
  related: TicketFacts | undefined,
): TicketState {
  return {
    title: titleFromSubject(f.msg.subject, env.tagFormat),
    description: text,
    status: "new",
    requesterAddress: who.address,
    requesterName: who.name,
    language: env.directory.languageFor(who.address, department?.id),
    createdAt: f.now,
    updatedAt: f.now,
    departmentId: department?.id ?? null,
    priority: fields.priority ?? priorityFromHeaders(f.msg.headers) ?? "normal",
    urgency: fields.urgency ?? department?.defaultUrgency ?? "impaired",
    dueDate: fields.due ?? null,
    assigneeAddress: null,
    resolvedAt: null,
    resolution: null,
    relatedTicketId: related?.row.id ?? null,
    lastOverdueNoticeAt: null,
    mergedIntoId: null,
  };
}

/**
 * A mail that belongs to no ticket opens one: field lines set priority, urgency, due date and
 * department; the address it was sent to routes it. An agent may put commands on top (#done
 * records work already done: the ticket is created resolved and nobody is acknowledged).
 */
export function planNewTicket(env: PlanEnv, f: MailFacts, opts: NewTicketOptions): Plan {
  const { msg, now } = f;
  const dir = env.directory;
  const trail: TrailStep[] = [...f.trail, ...(opts.why ?? [])];
  const who = requesterOf(msg);
  if (!who)
    return failurePlan("EPARSE", "mail names no sender (no usable From or Reply-To address)", [
      ...trail,
      step("apply", "failed", "EPARSE: mail names no sender (no usable From or Reply-To address)"),
    ]);

  const from = msg.from ? personOf(msg.from) : null;
  const sender = from ? (dir.asAgent(from) ?? from) : null;
  const isAgent = !!sender && dir.isAgent(sender.address);
  const cmd = isAgent
    ? agentCommands(f, opts.related ? newWords(msg, opts.related) : msg.text)
    : { commands: [], errors: [], text: opts.related ? newWords(msg, opts.related) : msg.text, trail: [] };
  trail.push(...cmd.trail);

  const fields = parseFieldLines(cmd.text, now);
  const text = fields.rest;
  trail.push(
    step("fields", Object.keys(fields.fields).length ? "set" : "none", [JSON.stringify(fields.fields), ...fields.problems].join("; ")),
  );
  const route = routeMail(msg, dir, fields.fields.department, opts.related?.row.departmentId);
  trail.push(
    step("route", route.department ? "routed" : "none", `${route.department?.id ?? "no department"}: ${route.reasons.join("; ")}`),
  );

  let state = draftTicket(env, f, who, text, fields.fields, route.department, opts.related);

  // Commands run on a copy: a failing one leaves no half-applied change behind, neither in the
  // row nor in what the new-ticket and acknowledgement mails say.
  let fx = emptyEffects();
  let errors = cmd.errors;
  if (cmd.commands.length && sender && errors.length === 0) {
    const work = { id: 0, ...state } as Ticket;
    const trial = emptyEffects();
    errors = runCommands(
      work,
      cmd.commands,
      {
        dir,
        actor: sender,
        now,
        text,
        isNew: true,
        people: [],
        others: f.others,
        tagFormat: env.tagFormat,
        maxParticipants: env.safety.maxParticipants,
      },
      trial,
    );
    if (errors.length === 0) {
      const { id: _id, ...changed } = work;
      state = changed;
      fx = trial;
    }
  }
  const applied = cmd.commands.length > 0 && errors.length === 0;
  const plan = emptyPlan(opts.related ? "late-reply" : "new-ticket", "ticket_created", trail);
  plan.ticket = { id: null, state, patch: {} };
  plan.message = { visibility: applied && cmd.commands.some((c) => c.kind === "note") ? "internal" : "public", text };
  // Participants get copies of every public mail: whom an automatic mail (a list, a system) addresses is nobody's choice to copy in.
  const copiedIn = f.classification.automatic
    ? []
    : [...msg.to.map((a) => ({ who: a, role: "to" as const })), ...msg.cc.map((a) => ({ who: a, role: "cc" as const }))];
  plan.participants = joiningPeople(env, [], [{ who, role: "requester" }, ...copiedIn]);
  plan.thread = { inReplyTo: msg.messageId, references: msg.references };
  plan.events.push({
    action: "created",
    actor: who.address,
    detail: `from mail ${messageKey(msg)}${opts.related ? `, refers to ${formatReference(env.tagFormat, opts.related.row.id)}` : ""}`,
  });
  if (applied) plan.events.push(...fx.events.map((e) => ({ ...e, actor: sender!.address })));
  plan.changes = applied ? [{ kind: "created" }, ...fx.changes] : [];
  plan.commandErrors = errors;
  const onlyFiles = !text.trim() && msg.attachments.length > 0 ? "; the mail has no text, only attachments: the agents' mail says so" : "";
  trail.push(
    step(
      "apply",
      "ticket-created",
      `new ticket for ${who.address} in ${state.departmentId ?? "no department"}, priority ${state.priority}, urgency ${state.urgency}${state.dueDate ? `, due ${state.dueDate}` : ""}, ${msg.attachments.length} attachment(s)${onlyFiles}`,
    ),
  );

  const copied = plan.participants.filter((p) => p.role !== "requester").map((p) => p.who);
  const sent = newTicketMails(env, f, state, { acknowledge: opts.acknowledge, sender, applied, fx, errors, text, copied });
  plan.notifications = sent.notifications;
  const why = opts.acknowledge
    ? "nobody to notify"
    : `automatic mail: no acknowledgement (RFC 3834; ${f.classification.reasons.join("; ") || "automatic"})`;
  trail.push(
    step(
      "notify",
      sent.notifications.length ? "queued" : sent.lines.length ? "withheld" : "none",
      [...sent.lines, ...(opts.acknowledge ? [] : [why])].join(", ") || why,
    ),
  );
  return plan;
}

function newTicketMails(
  env: PlanEnv,
  f: MailFacts,
  state: TicketState,
  o: {
    acknowledge: boolean;
    sender: Person | null;
    applied: boolean;
    fx: ReturnType<typeof emptyEffects>;
    errors: string[];
    text: string;
    copied: Person[];
  },
): NotifyResult {
  const dir = env.directory;
  const results: NotifyResult[] = [];
  const files = f.msg.attachments.map(fileOf);
  // Work recorded after the fact (#done) is nobody's news.
  if (!(o.applied && state.status === "resolved")) {
    // The people the requester copied get the acknowledgement in Cc: a reply-all keeps them in.
    if (o.acknowledge)
      results.push(planEvent(env, f, state, { event: "received", to: [requester(state)], cc: o.copied, actor: null, data: {} }));
    const attachments = f.msg.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, size: a.size }));
    const others = dir.members(state.departmentId).filter((m) => m.address !== state.assigneeAddress);
    results.push(
      planEvent(env, f, state, {
        event: "new-ticket",
        to: others,
        actor: o.sender,
        data: { attachments, textEmpty: o.text.trim() === "" },
        files,
      }),
    );
  }
  if (o.sender) for (const n of o.fx.notifications) results.push(commandMails(env, f, state, n, o.sender, [], files, [], o.copied));
  if (o.sender && (o.applied || o.errors.length)) {
    results.push(
      o.errors.length
        ? planEvent(env, f, state, { event: "command-error", to: [o.sender], actor: o.sender, toActor: true, data: { errors: o.errors } })
        : planEvent(env, f, state, {
            event: "command-confirmation",
            to: [o.sender],
            actor: o.sender,
            toActor: true,
            data: { changes: [{ kind: "created" }, ...o.fx.changes] },
          }),
    );
  }
  return merge(...results);
}
