/**
 * Two and three people chatting in real Chromium windows (one browser context each) against a real
 * `courier serve`. Each step is written as what a person does and sees; the steps build on each
 * other, like a conversation. Waiting for a locator is the assertion: a step that never shows up
 * fails the test when its timeout runs out.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium } from './support/chromium.js';
import { CourierServer } from './support/courier-server.js';
import { createGroup, messages, newPerson, openChat, seeMessage, sendMessage, startChat, type Person } from './support/person.js';
import { gradientPng } from './support/png.js';

describe('the web client', { timeout: 180_000 }, () => {
  let server: CourierServer;
  let browser: Browser;
  let alice: Person;
  let bob: Person;

  before(async () => {
    // Each is kept as soon as it is up, so that `after` stops the server even when the browser
    // could not start (else its process keeps the test run alive).
    const [started, launched] = await Promise.allSettled([CourierServer.start(), launchChromium()]);
    if (started.status === 'fulfilled') server = started.value;
    if (launched.status === 'fulfilled') browser = launched.value;
    for (const outcome of [started, launched]) if (outcome.status === 'rejected') throw outcome.reason;
    [alice, bob] = await Promise.all([newPerson(browser, server), newPerson(browser, server, { width: 390, height: 760 })]);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('shows one grey tick while the recipient is away, two when delivered, blue when read', async () => {
    await bob.context.setOffline(true);
    await bob.page.getByRole('status').filter({ hasText: 'You are offline' }).waitFor();

    await startChat(alice.page, bob.phone);
    await sendMessage(alice.page, 'Hello Bob');
    await seeMessage(alice.page, /^You: Hello Bob, .*, sent$/);

    await bob.context.setOffline(false);
    await seeMessage(alice.page, /^You: Hello Bob, .*, delivered$/);
    // Bob has not opened the chat yet: it waits in his list, unread, with its preview.
    await bob.page.getByRole('button', { name: new RegExp(`${escape(alice.phone)}.*Hello Bob.*1 unread`) }).waitFor();

    await openChat(bob.page, new RegExp(escape(alice.phone)));
    await seeMessage(bob.page, new RegExp(`^${escape(alice.phone)}: Hello Bob, `));
    await seeMessage(alice.page, /^You: Hello Bob, .*, read$/);
  });

  it('shows the peer online, and typing while they type', async () => {
    await alice.page.getByText('online', { exact: true }).waitFor();
    await bob.page.getByRole('textbox', { name: 'Message' }).pressSequentially('Hi Al');
    await alice.page.getByText('typing…', { exact: true }).first().waitFor();
    await bob.page.getByRole('textbox', { name: 'Message' }).pressSequentially('ice!');
    await bob.page.keyboard.press('Enter');
    await seeMessage(alice.page, new RegExp(`^${escape(bob.phone)}: Hi Alice!, `));
  });

  it('keeps the history in the browser across a reload, still signed in', async () => {
    await bob.page.reload();
    await openChat(bob.page, new RegExp(escape(alice.phone)));
    await seeMessage(bob.page, new RegExp(`^${escape(alice.phone)}: Hello Bob, `));
    await seeMessage(bob.page, /^You: Hi Alice!, .*, read$/);
  });

  it('queues what is written offline and sends it once when the connection is back', async () => {
    await alice.context.setOffline(true);
    await alice.page.getByRole('status').filter({ hasText: 'You are offline' }).waitFor();
    await sendMessage(alice.page, 'Written offline');
    await seeMessage(alice.page, /^You: Written offline, .*, waiting to send$/);

    await alice.context.setOffline(false);
    await seeMessage(alice.page, /^You: Written offline, .*, read$/);
    // A marker sent afterwards: once Bob sees it, a doubled message would have come before it.
    await sendMessage(alice.page, 'Marker');
    await seeMessage(bob.page, /: Marker, /);
    assert.equal(await messages(bob.page).filter({ hasText: 'Written offline' }).count(), 1);
    assert.equal(await messages(alice.page).filter({ hasText: 'Written offline' }).count(), 1);
  });

  it('sends a photo with a thumbnail made in the browser', async () => {
    const chooser = alice.page.waitForEvent('filechooser');
    await alice.page.getByRole('button', { name: 'Attach' }).click();
    await (await chooser).setFiles({ name: 'sunset.png', mimeType: 'image/png', buffer: gradientPng(800, 600) });
    await seeMessage(alice.page, /^You: photo sunset\.png, .*, (delivered|read)$/);

    const thumbnail = bob.page.getByRole('img', { name: 'Photo sunset.png' });
    await thumbnail.waitFor();
    const size = await thumbnail.evaluate((img: HTMLImageElement) => ({ width: img.naturalWidth, height: img.naturalHeight }));
    assert.ok(size.width > 0 && size.width <= 320, `thumbnail ${size.width}x${size.height}`);

    // The full photo opens from the thumbnail.
    await bob.page.getByRole('button', { name: 'View photo sunset.png' }).click();
    const full = bob.page.getByRole('dialog', { name: 'Photo' }).getByRole('img', { name: 'sunset.png' });
    await full.waitFor();
    assert.equal(await full.evaluate((img: HTMLImageElement) => img.naturalWidth), 800);
    await bob.page.keyboard.press('Escape');
  });

  it('sends a file that the other downloads with its name and bytes', async () => {
    const chooser = bob.page.waitForEvent('filechooser');
    await bob.page.getByRole('button', { name: 'Attach' }).click();
    await (await chooser).setFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('tent, stove, snacks\n') });
    await seeMessage(bob.page, /^You: file notes\.txt \(20 B\), .*, (delivered|read)$/);

    const download = alice.page.waitForEvent('download');
    await alice.page.getByRole('button', { name: 'Download notes.txt (20 B)' }).click();
    const file = await download;
    assert.equal(file.suggestedFilename(), 'notes.txt');
    const stream = await file.createReadStream();
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), 'tent, stove, snacks\n');
  });

  it('replies, reacts, edits and deletes for everyone', async () => {
    const marker = messages(bob.page).filter({ hasText: 'Marker' });
    await marker.hover();
    await marker.getByRole('button', { name: 'Reply' }).click();
    await sendMessage(bob.page, 'Got it');
    await seeMessage(alice.page, new RegExp(`^${escape(bob.phone)}: Got it, in reply to you, `));

    const reply = messages(alice.page).filter({ hasText: 'Got it' });
    await reply.hover();
    await reply.getByRole('button', { name: 'React' }).click();
    await reply.getByRole('button', { name: 'React with 👍' }).click();
    await seeMessage(bob.page, /^You: Got it, in reply to .*, reactions 👍 1, .*, read$/);

    await sendMessage(alice.page, 'See you at nine');
    const mistake = messages(alice.page).filter({ hasText: 'See you at nine' });
    await mistake.hover();
    await mistake.getByRole('button', { name: 'Edit' }).click();
    await alice.page.getByRole('button', { name: 'Cancel edit' }).waitFor();
    await alice.page.getByRole('textbox', { name: 'Message' }).fill('See you at ten');
    await alice.page.getByRole('button', { name: 'Send' }).click();
    await seeMessage(bob.page, new RegExp(`^${escape(alice.phone)}: See you at ten \\(edited\\), `));

    const edited = messages(alice.page).filter({ hasText: 'See you at ten' });
    await edited.hover();
    await edited.getByRole('button', { name: 'Delete for everyone' }).click();
    await seeMessage(bob.page, new RegExp(`^${escape(alice.phone)}: This message was deleted, `));
    assert.equal(await messages(bob.page).filter({ hasText: 'See you at' }).count(), 0);
  });

  it('links a second browser to an account with the code it shows, and removes it again', async () => {
    const laptop = await browser.newContext({ viewport: { width: 1100, height: 720 } });
    const page = await laptop.newPage();
    await page.goto(server.url);
    await page.getByRole('button', { name: /Link this browser/ }).click();
    await page.getByRole('img', { name: /^QR code of the link code/ }).waitFor();
    const code = (await page.getByRole('status', { name: 'Link code' }).textContent())!;

    await alice.page.getByRole('button', { name: 'Devices' }).click();
    const devices = alice.page.getByRole('dialog', { name: 'Devices' });
    await devices.getByLabel('Link code').fill(code);
    await devices.getByRole('button', { name: 'Approve' }).click();
    await devices.getByText('Linked Chrome on Linux.').waitFor();

    // The linked browser is Alice too: what it sends shows on her first browser as her own.
    await startChat(page, bob.phone);
    await sendMessage(page, 'Sent from my laptop');
    await seeMessage(bob.page, new RegExp(`^${escape(alice.phone)}: Sent from my laptop, `));
    await devices.getByRole('button', { name: 'Close' }).click();
    await openChat(alice.page, new RegExp(escape(bob.phone)));
    await seeMessage(alice.page, /^You: Sent from my laptop, /);

    await alice.page.getByRole('button', { name: 'Devices' }).click();
    await devices.getByRole('button', { name: 'Remove Chrome on Linux' }).click();
    await page.getByText(/this device was removed from the account/).waitFor();
    await page.getByLabel('Phone number').waitFor();
    await devices.getByRole('button', { name: 'Close' }).click();
    await laptop.close();
  });

  it('shows a notification when the server wakes the device through Web Push', async () => {
    await alice.context.grantPermissions(['notifications'], { origin: server.url });
    const cdp = await alice.context.newCDPSession(alice.page);
    const registered = new Promise<string>((resolve) =>
      cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
        const ours = registrations.find((r) => r.scopeURL.startsWith(server.url) && !r.isDeleted);
        if (ours !== undefined) resolve(ours.registrationId);
      }),
    );
    await cdp.send('ServiceWorker.enable');
    // With permission granted, the app registers its service worker once connected (the browser's
    // push service itself is out of reach here, so the push is handed to the worker directly).
    await alice.page.reload();
    const registrationId = await registered;
    await cdp.send('ServiceWorker.deliverPushMessage', { origin: server.url, registrationId, data: JSON.stringify({ type: 'wake', unread: 3 }) });
    await alice.page.waitForFunction(async () => {
      const notifications = await (await navigator.serviceWorker.ready).getNotifications();
      return notifications.some((n) => n.title === 'Courier' && n.body === '3 new messages');
    });
    await cdp.detach();
  });

  it('lets three people talk in a group and the admin remove one', async () => {
    const carol = await newPerson(browser, server);
    await createGroup(alice.page, 'Weekend trip', [bob.phone, carol.phone]);
    await sendMessage(alice.page, 'Who brings the tent?');
    await seeMessage(alice.page, /^You: Who brings the tent\?, .*, delivered$/);

    for (const member of [bob, carol]) {
      if (member === bob) await bob.page.getByRole('button', { name: 'Back to chats' }).click();
      await openChat(member.page, /Weekend trip/);
      await seeMessage(member.page, new RegExp(`^${escape(alice.phone)}: Who brings the tent\\?, `));
    }
    // Blue ticks in a group take every member's read.
    await seeMessage(alice.page, /^You: Who brings the tent\?, .*, read$/);

    await sendMessage(carol.page, 'I do');
    await seeMessage(bob.page, new RegExp(`^${escape(carol.phone)}: I do, `));

    await alice.page.getByRole('button', { name: 'Group info' }).click();
    await alice.page.getByRole('button', { name: `Remove ${carol.phone}` }).click();
    await carol.page.getByText('You are no longer a member of this group.').waitFor();
    await alice.page.getByText('2 members').waitFor();

    // Signing out forgets the account in this browser, also after a reload.
    await carol.page.getByRole('button', { name: 'Sign out' }).click();
    await carol.page.getByLabel('Phone number').waitFor();
    await carol.page.reload();
    await carol.page.getByLabel('Phone number').waitFor();
    await carol.context.close();
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
