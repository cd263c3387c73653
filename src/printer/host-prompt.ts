// Host prompts: Marlin's (and Prusa's) `//action:prompt_begin <text>`, `prompt_choice`/`prompt_button <choice>`,
// `prompt_show` and `prompt_end`, the dialogs M0/M1, M600 and filament runout put up while the firmware waits for
// the user. The answer is `M876 S<index>`. Kept here as OctoPrint's action_command_prompt plugin keeps them, so
// any OctoPrint client (and the page) can show and answer them.

export interface HostPrompt {
  text: string;
  choices: string[];
}

/** A change to announce: the prompt now shown, or null when the shown one closed. */
export type PromptChange = HostPrompt | null | undefined;

export class PromptTracker {
  private draft: HostPrompt | undefined;
  private shownPrompt: HostPrompt | undefined;
  /** oks still owed to lines that were in flight when the prompt showed (see `ok`) */
  private owed = 0;

  get shown(): HostPrompt | undefined {
    return this.shownPrompt;
  }

  /**
   * One `//action:prompt_*`; `inFlight` is how many lines were in flight then. A new prompt_begin replaces
   * whatever was shown (Marlin sends prompt_end first anyway; a lost one must not leave a stale dialog).
   */
  action(name: string, params: string, inFlight: number): PromptChange {
    switch (name) {
      case 'prompt_begin': {
        this.draft = { text: params.trim(), choices: [] };
        return this.close() ? null : undefined;
      }
      case 'prompt_choice':
      case 'prompt_button':
        this.draft?.choices.push(params.trim());
        return undefined;
      case 'prompt_show':
        if (!this.draft) return undefined;
        this.shownPrompt = this.draft;
        this.draft = undefined;
        this.owed = inFlight;
        return this.shownPrompt;
      case 'prompt_end':
        this.draft = undefined;
        return this.close() ? null : undefined;
      default:
        return undefined;
    }
  }

  /**
   * One ok arrived. The firmware runs commands in order and does nothing else while it waits for the user, so
   * an ok for a line sent after the prompt showed means it no longer waits: the prompt is stale (Marlin sends no
   * prompt_end when M108 or its own display ends an M0). Returns true when that closed the prompt.
   */
  ok(): boolean {
    if (!this.shownPrompt) return false;
    if (this.owed > 0) {
      this.owed--;
      return false;
    }
    return this.close();
  }

  /** Closes the shown prompt (answered, or the link is gone). Returns true when one was shown. */
  close(): boolean {
    const had = this.shownPrompt !== undefined;
    this.shownPrompt = undefined;
    this.owed = 0;
    return had;
  }

  reset(): boolean {
    this.draft = undefined;
    return this.close();
  }
}
