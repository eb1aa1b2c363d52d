/** What every target renderer returns: titled blocks of lines to paste, and notes. */
export interface Section {
  title: string;
  lines: string[];
}

export interface Rendered {
  sections: Section[];
  notes: string[];
}
