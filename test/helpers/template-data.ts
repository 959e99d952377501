/** A complete template data object (the contract every template gets), for tests that render or send one. */
export function sampleTemplateData(
  o: { id?: number; title?: string; requesterName?: string | null; recipient?: { address: string; name: string | null } } = {},
) {
  const id = o.id ?? 1042;
  const requester = { address: "anna@customer.example.org", name: o.requesterName === undefined ? "Anna Berg" : o.requesterName };
  return {
    lang: "en",
    gateway: { name: "ACME Support", address: "support@example.net" },
    recipient: o.recipient ?? requester,
    ticket: {
      id,
      reference: `T-${id}`,
      tag: `[#T-${id}]`,
      title: o.title ?? "Printer on floor 3 is jammed",
      description: "The printer shows error E-17.",
      status: "new",
      statusLabel: "new",
      priority: "normal",
      priorityLabel: "normal",
      urgency: "impaired",
      urgencyLabel: "work is impaired",
      dueDate: null,
      department: null,
      assignee: null,
      requester,
      createdAt: "2026-11-26T10:00:00.000Z",
      relatedReference: null,
      reopenDays: 14,
    },
    actor: null,
    text: null,
    history: [],
    changes: [],
    errors: [],
    commandHelp: [],
    mergedReference: "T-17",
    mergedTitle: "Printer jammed again",
    departments: ["IT Service"],
    department: "IT Service",
    lines: [],
    overdue: [],
    waiting: [],
  };
}
