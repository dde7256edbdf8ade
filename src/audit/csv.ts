/**
 * Audit rows as CSV, for the console's export and a citizen's own ledger: RFC 4180, UTF-8 with a
 * BOM so spreadsheets read Chinese right.
 */
/** RFC 4180 CSV; cells that a spreadsheet would run as a formula are prefixed with a quote. */
export function auditCsv(
  rows: Array<{
    seq: string;
    at: Date;
    actor: string;
    action: string;
    subject: string | null;
    ip: string | null;
    details: unknown;
  }>,
): string {
  const cell = (value: unknown) => {
    const text = String(value ?? '');
    const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
    return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
  };
  const lines = rows.map((row) =>
    [row.seq, row.at.toISOString(), row.actor, row.action, row.subject, row.ip, JSON.stringify(row.details)]
      .map(cell)
      .join(','),
  );
  return `\uFEFFseq,at,actor,action,subject,ip,details\r\n${lines.map((line) => `${line}\r\n`).join('')}`;
}
