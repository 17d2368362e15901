import assert from 'node:assert/strict';
import type { Account } from './registration.js';

/** The device endpoints over HTTP, as a client written from the contract calls them. */

export interface Answer {
  status: number;
  body: any;
}

async function call(method: string, url: string, token?: string, body?: unknown): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url, { method, headers, ...(body !== undefined && { body: JSON.stringify(body) }) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

export function requestLink(baseUrl: string, name = 'Test laptop'): Promise<Answer> {
  return call('POST', `${baseUrl}/v1/devices/link`, undefined, { name });
}

export function approveLink(baseUrl: string, token: string, linkCode: unknown): Promise<Answer> {
  return call('POST', `${baseUrl}/v1/devices/link/approve`, token, { linkCode });
}

export function pollLink(baseUrl: string, pollToken: string, wait = 0): Promise<Answer> {
  return call('GET', `${baseUrl}/v1/devices/link/${encodeURIComponent(pollToken)}?wait=${wait}`);
}

export function listDevices(baseUrl: string, token: string): Promise<Answer> {
  return call('GET', `${baseUrl}/v1/devices`, token);
}

export function removeDevice(baseUrl: string, token: string, deviceId: number | string): Promise<Answer> {
  return call('DELETE', `${baseUrl}/v1/devices/${deviceId}`, token);
}

export interface LinkedAccount extends Account {
  deviceId: number;
}

/**
 * Links a new device to the account of `primary`, the three steps in order: the new device asks
 * through `newDeviceUrl`, the primary approves through `primaryUrl` (default the same node).
 */
export async function linkDevice(newDeviceUrl: string, primary: Account, name = 'Test laptop', primaryUrl = newDeviceUrl): Promise<LinkedAccount> {
  const requested = await requestLink(newDeviceUrl, name);
  assert.equal(requested.status, 201, JSON.stringify(requested.body));
  const approved = await approveLink(primaryUrl, primary.token, requested.body.linkCode);
  assert.equal(approved.status, 200, JSON.stringify(approved.body));
  const collected = await pollLink(newDeviceUrl, requested.body.pollToken, 5);
  assert.equal(collected.status, 200, JSON.stringify(collected.body));
  return collected.body as LinkedAccount;
}
