/** One person at one browser window: what they do, in the words on the screen. */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { CourierServer } from './courier-server.js';

let nextPhone = 0;
const run = Date.now() % 1_000_000;

export interface Person {
  phone: string;
  context: BrowserContext;
  page: Page;
}

/** A new browser window (its own storage) where a person registers a new number. */
export async function newPerson(browser: Browser, server: CourierServer, viewport = { width: 1100, height: 720 }): Promise<Person> {
  const phone = `+1555${String(run).padStart(6, '0')}${String(nextPhone++).padStart(2, '0')}`;
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`[${phone}] page error:`, err));
  await page.goto(server.url);
  await page.getByLabel('Phone number').fill(phone);
  await page.getByRole('button', { name: 'Send code' }).click();
  await page.getByLabel('Code').fill(await server.codeFor(phone));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('textbox', { name: 'Search or new chat' }).waitFor();
  return { phone, context, page };
}

/** Starts (or opens) the direct chat with `phone` through the search box. */
export async function startChat(page: Page, phone: string): Promise<void> {
  await page.getByRole('textbox', { name: 'Search or new chat' }).fill(phone);
  await page.getByRole('button', { name: `Chat with ${phone}` }).click();
  await page.getByRole('heading', { name: phone }).waitFor();
}

export async function openChat(page: Page, name: string | RegExp): Promise<void> {
  await page.getByRole('list', { name: 'Chat list' }).getByRole('button', { name }).click();
  await page.getByRole('heading', { name }).waitFor();
}

/** Makes a group through the "New group" dialog, as its creator, and waits for its conversation. */
export async function createGroup(page: Page, name: string, memberPhones: string[]): Promise<void> {
  await page.getByRole('button', { name: 'New group' }).click();
  const dialog = page.getByRole('dialog', { name: 'New group' });
  await dialog.getByLabel('Group name').fill(name);
  await dialog.getByLabel('Members').fill(memberPhones.join(', '));
  await dialog.getByRole('button', { name: 'Create group' }).click();
  await page.getByRole('heading', { name }).waitFor();
}

export async function sendMessage(page: Page, text: string): Promise<void> {
  await page.getByRole('textbox', { name: 'Message' }).fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
}

/** The messages of the open conversation. */
export function messages(page: Page) {
  return page.getByRole('list', { name: 'Messages' }).getByRole('listitem');
}

/** Waits until the open conversation shows a message whose accessible name matches `name`. */
export async function seeMessage(page: Page, name: RegExp): Promise<void> {
  await page.getByRole('list', { name: 'Messages' }).getByRole('listitem', { name }).first().waitFor();
}
