export interface NotificationEvent {
  /** Also the template's file name: templates/<name>.<lang>.hbs. */
  name: string;
  audience: "requester" | "assignee" | "department" | "agent";
  /** Sent by the gateway on its own: carries Auto-Submitted: auto-replied (RFC 3834). */
  automatic: boolean;
  description: string;
  /** Sent about a mail that made no ticket (its subject carries no tag). */
  ticketless?: boolean;
  /**
   * Sent in answer to an inbound mail with no person involved (the acknowledgement, the
   * too-large notice): the mails an autoresponder could keep bouncing back and forth, so they
   * count against the per-address limit.
   */
  answersInbound?: boolean;
}
