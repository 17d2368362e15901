// jimp is loaded only when a thumbnail is made: `courier --help` and the other commands stay quick.
import type { Jimp as JimpType } from 'jimp';

/** The contract's limit on a thumbnail, decoded. */
const MAX_THUMBNAIL_BYTES = 16 * 1024;
/** Tried in turn until the JPEG fits the limit. */
const ATTEMPTS = [
  { side: 128, quality: 70 },
  { side: 96, quality: 60 },
  { side: 64, quality: 50 },
];

/**
 * A small JPEG preview of an image, base64, for the message's `thumbnail`; undefined for files
 * that are not images, or images jimp cannot decode (the message then simply has none).
 */
export async function thumbnailOf(path: string, mime: string): Promise<{ thumbnail?: string; note?: string }> {
  if (!mime.startsWith('image/')) return {};
  const { Jimp } = await import('jimp');
  let image: Awaited<ReturnType<typeof JimpType.read>>;
  try {
    image = await Jimp.read(path);
  } catch (err) {
    return { note: `no thumbnail: ${(err as Error).message}` };
  }
  for (const { side, quality } of ATTEMPTS) {
    const jpeg = await image.clone().scaleToFit({ w: side, h: side }).getBuffer('image/jpeg', { quality });
    if (jpeg.length <= MAX_THUMBNAIL_BYTES) return { thumbnail: jpeg.toString('base64') };
  }
  return { note: 'no thumbnail: the image does not shrink under 16 KiB' };
}
