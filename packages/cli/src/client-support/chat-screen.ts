/**
 * The screen of `courier chat`: lines printed above the input prompt, and lines that change after
 * they were printed (a sent message's ticks). At a terminal a changed line is rewritten in place
 * (the cursor is saved, moved up to it, the line redrawn, the cursor restored); when the output is
 * not a terminal (a pipe, a log) the changed line is printed again, so nothing is lost.
 */
import type { Interface } from 'node:readline';

export interface ScreenLine {
  text: string;
}

const saveCursor = '\x1b7';
const restoreCursor = '\x1b8';
const clearLine = '\x1b[2K';

export class ChatScreen {
  /** Lines printed so far at a terminal, newest last (only the last screenful can be rewritten). */
  readonly #printed: ScreenLine[] = [];

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly prompt: Interface | undefined,
  ) {}

  get isTerminal(): boolean {
    return this.out.isTTY === true;
  }

  /** Prints a line above the prompt; returns it, for `update`. */
  print(text: string): ScreenLine {
    const line: ScreenLine = { text };
    if (!this.isTerminal) {
      this.out.write(`${text}\n`);
      return line;
    }
    // Clear what the prompt shows, print, then let readline redraw the prompt and what was typed.
    this.out.write(`\r${clearLine}${text}\n`);
    this.#printed.push(line);
    if (this.#printed.length > 500) this.#printed.splice(0, this.#printed.length - 500);
    this.prompt?.prompt(true);
    return line;
  }

  /**
   * Takes back the line the terminal echoed as it was typed (the prompt and the text), so the
   * message shows once, as the line with its ticks.
   */
  dropTypedLine(typed: string): void {
    if (!this.isTerminal) return;
    const rows = this.#rows(`> ${typed}`);
    this.out.write(`\x1b[${rows}A\r\x1b[0J`);
  }

  /** Changes a printed line: in place at a terminal while it is on screen, else printed again. */
  update(line: ScreenLine, text: string): void {
    const index = this.#printed.lastIndexOf(line);
    const rowsUp = index < 0 ? Infinity : this.#printed.slice(index).reduce((rows, l) => rows + this.#rows(l.text), 0);
    const fits = this.#rows(text) === this.#rows(line.text);
    // A pseudo-terminal may report 0 rows and columns: assume a usual screen then.
    if (!this.isTerminal || rowsUp >= (this.out.rows || 24) || !fits) {
      this.print(text);
      return;
    }
    line.text = text;
    this.out.write(`${saveCursor}\x1b[${rowsUp}A\r${clearLine}${text}${restoreCursor}`);
  }

  /** Screen rows a line takes (it wraps at the terminal's width). */
  #rows(text: string): number {
    const width = this.out.columns || 80;
    return Math.max(1, Math.ceil([...text].length / width));
  }
}
