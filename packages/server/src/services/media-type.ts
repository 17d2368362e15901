import { CourierError } from '../domain/errors.js';

/** `type/subtype` made of RFC 9110 token characters, as a message's `media.mime` must be. */
const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

/** Whether `mime` is a media type as a message may carry it (any letter case). */
export function isMediaType(mime: string): boolean {
  return MEDIA_TYPE.test(mime.toLowerCase());
}

/**
 * The media type of an upload's `Content-Type`: type/subtype in lowercase, parameters dropped,
 * so that the answer's `mime` can be put in a `send` as it is.
 */
export function mediaTypeOf(contentType: string | undefined): string {
  const essence = (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (!MEDIA_TYPE.test(essence)) {
    throw new CourierError('invalid_media', 'Content-Type must be the media type of the body (type/subtype).', 400);
  }
  return essence;
}
