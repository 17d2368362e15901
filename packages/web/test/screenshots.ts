/**
 * Makes the screenshots in docs/ from a real server and browser: `npm run build`, then
 * `node packages/web/dist/test/screenshots.js docs` from the repo root.
 */
import { argv } from 'node:process';
import { join } from 'node:path';
import { launchChromium } from './support/chromium.js';
import { CourierServer } from './support/courier-server.js';
import { createGroup, messages, newPerson, openChat, seeMessage, sendMessage, startChat } from './support/person.js';
import { gradientPng } from './support/png.js';

const out = argv[2] ?? 'docs';
// The browser first: if it cannot start, no server process is left running.
const browser = await launchChromium();
const server = await CourierServer.start();
try {
  const signIn = await (await browser.newContext({ viewport: { width: 900, height: 660 } })).newPage();
  await signIn.goto(server.url);
  await signIn.getByLabel('Phone number').fill('+15551234567');
  await signIn.screenshot({ path: join(out, 'web-sign-in.png') });

  await signIn.getByRole('button', { name: /Link this browser/ }).click();
  await signIn.getByRole('img', { name: /^QR code/ }).waitFor();
  await signIn.screenshot({ path: join(out, 'web-link.png') });

  const alice = await newPerson(browser, server, { width: 1000, height: 620 });
  const bob = await newPerson(browser, server, { width: 390, height: 700 });
  const carol = await newPerson(browser, server, { width: 1000, height: 620 });
  await startChat(alice.page, bob.phone);
  await sendMessage(alice.page, 'Hi Bob! Are we still on for Saturday?');
  await bob.page.getByRole('button', { name: /1 unread/ }).waitFor();
  await bob.page.screenshot({ path: join(out, 'web-phone-list.png') });
  await openChat(bob.page, new RegExp(alice.phone.replace('+', '\\+')));
  await sendMessage(bob.page, 'Yes! I found a campsite by the lake');
  await seeMessage(alice.page, /Yes! I found/);
  const chooser = bob.page.waitForEvent('filechooser');
  await bob.page.getByRole('button', { name: 'Attach' }).click();
  await (await chooser).setFiles({ name: 'lake.png', mimeType: 'image/png', buffer: gradientPng(640, 420) });
  await alice.page.getByRole('img', { name: 'Photo lake.png' }).waitFor();
  const campsite = messages(alice.page).filter({ hasText: 'campsite' });
  await campsite.hover();
  await campsite.getByRole('button', { name: 'React' }).click();
  await campsite.getByRole('button', { name: 'React with ❤️' }).click();
  await campsite.hover();
  await campsite.getByRole('button', { name: 'Reply' }).click();
  await sendMessage(alice.page, 'Looks great. I will bring the tent.');
  await alice.page.mouse.move(0, 0);
  await seeMessage(alice.page, /I will bring the tent\., .*, read$/);
  await startChat(alice.page, carol.phone);
  await sendMessage(alice.page, 'Coming with us on Saturday?');
  await openChat(alice.page, new RegExp(bob.phone.replace('+', '\\+')));
  await bob.page.getByRole('textbox', { name: 'Message' }).pressSequentially('See');
  await alice.page.getByText('typing…', { exact: true }).first().waitFor();
  await alice.page.screenshot({ path: join(out, 'web-chat.png') });
  await bob.page.screenshot({ path: join(out, 'web-phone.png') });

  await createGroup(alice.page, 'Weekend trip', [bob.phone, carol.phone]);
  await sendMessage(alice.page, 'Packing list: tent, stove, snacks');
  await openChat(carol.page, /Weekend trip/);
  await sendMessage(carol.page, 'I will bring snacks');
  await seeMessage(alice.page, /I will bring snacks/);
  await alice.page.getByRole('button', { name: 'Group info' }).click();
  await alice.page.screenshot({ path: join(out, 'web-group.png') });
} finally {
  await browser.close();
  await server.stop();
}
