// A plain table of text cells (CSV rows, document properties). Cells are text nodes.
export interface DataTableProps {
  caption: string;
  header: string[];
  rows: string[][];
}

export function DataTable({ caption, header, rows }: DataTableProps) {
  return (
    <table className="canvas-table">
      <caption>{caption}</caption>
      <thead>
        <tr>{header.map((cell, i) => <th key={i} scope="col">{cell}</th>)}</tr>
      </thead>
      <tbody>
        {rows.map((row, r) => (
          <tr key={r}>{row.map((cell, c) => <td key={c}>{cell}</td>)}</tr>
        ))}
      </tbody>
    </table>
  );
}
