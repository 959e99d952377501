export interface NotificationEvent {
  /** Also the template's file name: templates/<name>.<lang>.hbs. */
  name: string;
  audience: "requester" | "assignee" | "department" | "agent";
  /** Sent by the gateway on its own: carries Auto-Submitted: auto-replied (RFC 3834). */
  automatic: boolean;
  description: string;
}
