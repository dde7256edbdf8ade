/**
 * CSV for the console's audit export and a citizen's own ledger: RFC 4180, UTF-8 with a BOM so
 * spreadsheets read Chinese right; cells a spreadsheet would run as a formula get a leading quote.
 *
 * @example
 *   toCsv(['时间', '网站'], [['2026-12-05 10:00', '社保查询']]);
 */
export function toCsv(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cell = (value: unknown) => {
    const text = String(value ?? '');
    const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
    return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
  };
  return `\uFEFF${[header, ...rows].map((row) => `${row.map(cell).join(',')}\r\n`).join('')}`;
}

/** Audit rows for the console: ids, UTC times and details as JSON, for machines and auditors. */
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
  return toCsv(
    ['seq', 'at', 'actor', 'action', 'subject', 'ip', 'details'],
    rows.map((row) => [
      row.seq,
      row.at.toISOString(),
      row.actor,
      row.action,
      row.subject,
      row.ip,
      JSON.stringify(row.details),
    ]),
  );
}
