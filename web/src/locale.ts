/**
 * uPlot builds an `Intl.NumberFormat(navigator.language)` as it loads, and Intl throws on a
 * language that is not a BCP 47 tag: Chromium started with LANG=C.UTF-8 reports `en-US@posix`.
 * The throw would stop the whole script, and the key form would then submit as plain HTML.
 * main.ts imports this module first, before uPlot, so such a language is replaced for this page.
 */
export const DEFAULT_LOCALE = 'en-US';

export function isValidLocale(tag: string | undefined): tag is string {
  if (!tag) return false;
  try {
    return Intl.getCanonicalLocales(tag).length > 0;
  } catch {
    return false;
  }
}

if (typeof navigator !== 'undefined' && !isValidLocale(navigator.language)) {
  // An own property shadows Navigator.prototype's getter for this page only.
  Object.defineProperty(navigator, 'language', { value: DEFAULT_LOCALE, configurable: true });
}
