/** Inline SVG icons: they need no emoji font, which many machines (and CI browsers) lack. */
const common = { width: 22, height: 22, viewBox: '0 0 24 24', 'aria-hidden': true, focusable: 'false' } as const;

export function PaperclipIcon() {
  return (
    <svg {...common} fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
      <path d="M21.4 11.1l-9.2 9.2a6 6 0 0 1-8.5-8.5l9.2-9.2a4 4 0 0 1 5.7 5.7l-9.2 9.2a2 2 0 0 1-2.8-2.8l8.5-8.5" />
    </svg>
  );
}

export function SendIcon() {
  return (
    <svg {...common} fill="currentColor">
      <path d="M2 21l21-9L2 3v7l15 2-15 2z" />
    </svg>
  );
}

export function ClockIcon() {
  return (
    <svg {...common} width={12} height={12} fill="none" stroke="currentColor" stroke-width="2.5">
      <circle cx="12" cy="12" r="9" />
      <path d="M12 7v5l3 2" />
    </svg>
  );
}
