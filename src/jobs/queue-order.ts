// Reordering a saved queue (a printer's own, the farm's): on the copy an update is saving, found again by id,
// since an update queued ahead of this one may have reordered or shortened the list.

export function moveItem(items: { id: string }[], id: string, position: number): void {
  const at = items.findIndex((i) => i.id === id);
  if (at < 0) return;
  const [item] = items.splice(at, 1);
  items.splice(Math.min(position, items.length), 0, item!);
}
