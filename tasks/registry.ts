/** The registered tasks, looked up by name (case-insensitive, '-' and '_' ignored). */
import { pickAndPlace } from './pick-and-place.ts';
import { push } from './push.ts';
import { reach } from './reach.ts';
import { slide } from './slide.ts';
import { stack } from './stack.ts';
import type { TaskDef } from './task.ts';

const TASKS: readonly TaskDef[] = [reach, push, pickAndPlace, slide, stack];

/** Names of every registered task. */
export function listTasks(): string[] {
  return TASKS.map((t) => t.name);
}

const norm = (s: string) => s.toLowerCase().replace(/[-_\s]/g, '');

/** Returns the task called name; throws an error listing the known names otherwise. */
export function getTask(name: string): TaskDef {
  if (typeof name !== 'string') throw new Error(`task name must be a string, got ${typeof name}`);
  const t = TASKS.find((x) => norm(x.name) === norm(name));
  if (!t) throw new Error(`unknown task '${name}' (known: ${listTasks().join(', ')})`);
  return t;
}
