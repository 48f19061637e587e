// The process canvas (issue 9, helper "canvas" fills this in). The Build page's editor
// renders it for components of type "process".
export interface ProcessEditorProps {
  componentId: string | null; // null: a new process not yet saved
  onClose: () => void;
}

export function ProcessEditor(props: ProcessEditorProps) {
  return <section aria-label="Process canvas">{props.componentId}</section>;
}
