const pad2 = (n: number) => String(n).padStart(2, "0");

/**
 * The calendar date of an instant as YYYY-MM-DD (RFC 3339 full-date / ISO 8601), in the server's
 * time zone: due dates are days where the team works, not UTC instants.
 */
export function localDate(d: Date): string {
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
}
