/** Checking the users a person typed, so a slip gets its own explanation instead of a server error about something else. */
import { UsageError } from './options.js';

const e164 = /^\+[0-9]{8,15}$/;

/** A userId as typed: `+` and 8 to 15 digits. Spaces, dashes, dots and brackets are dropped first. */
export function checkUserId(typed: string): string {
  const compact = typed.replace(/[\s().-]/g, '');
  if (e164.test(compact)) return compact;
  if (/^[0-9]{8,15}$/.test(compact)) {
    throw new UsageError(`"${typed}" has no leading "+": phone numbers are written in international form, e.g. +${compact}`);
  }
  throw new UsageError(`"${typed}" is not a phone number: write it in international form, + and 8 to 15 digits (e.g. +15551234567)`);
}

export function checkUserIds(typed: string[]): string[] {
  return typed.map(checkUserId);
}

/** A recipient: a userId (checked as above) or a groupId (anything that does not look like a number). */
export function checkRecipient(typed: string): string {
  return /^[+0-9\s().-]+$/.test(typed) ? checkUserId(typed) : typed;
}
