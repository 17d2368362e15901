/**
 * Attachments in the browser: a JPEG thumbnail drawn on a canvas (at most 16 KiB, as the contract
 * allows), and an upload through XMLHttpRequest, whose upload events give the progress bar that
 * fetch cannot give for a request body.
 */
import { CourierApiError, type MediaRef } from 'courier-chat-client';

const maxThumbnailBytes = 16 * 1024;

/** base64 JPEG, or undefined for what the browser cannot decode as an image. */
export async function makeThumbnail(file: Blob): Promise<string | undefined> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch (err) {
    console.warn('no thumbnail: the browser cannot decode this image', err);
    return undefined;
  }
  try {
    for (const [edge, quality] of [[320, 0.7], [200, 0.6], [120, 0.5], [64, 0.5]] as const) {
      const scale = Math.min(1, edge / Math.max(bitmap.width, bitmap.height));
      const canvas = document.createElement('canvas');
      canvas.width = Math.max(1, Math.round(bitmap.width * scale));
      canvas.height = Math.max(1, Math.round(bitmap.height * scale));
      canvas.getContext('2d')!.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality));
      if (blob !== null && blob.size <= maxThumbnailBytes) return base64(blob);
    }
    return undefined;
  } finally {
    bitmap.close();
  }
}

/** `POST /v1/media` with the file as the body; `progress` gets the fraction sent (0..1). */
export function uploadWithProgress(base: string, token: string, file: Blob, mime: string, progress: (fraction: number) => void): Promise<MediaRef> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', new URL('v1/media', base).toString());
    xhr.setRequestHeader('authorization', `Bearer ${token}`);
    xhr.setRequestHeader('content-type', mime);
    xhr.responseType = 'json';
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) progress(event.loaded / event.total);
    };
    xhr.onload = () => {
      const body = xhr.response as { hash?: string; size?: number; mime?: string; error?: { code?: string; message?: string } } | null;
      if (xhr.status === 201 || xhr.status === 200) {
        if (body?.hash !== undefined && body.size !== undefined) return resolve({ hash: body.hash, size: body.size, mime: body.mime ?? mime });
      }
      reject(new CourierApiError(xhr.status, body?.error?.code ?? `http_${xhr.status}`, body?.error?.message ?? `The upload failed (HTTP ${xhr.status}).`));
    };
    xhr.onerror = () => reject(new CourierApiError(0, 'network_error', 'The upload failed: no connection to the server.'));
    xhr.send(file);
  });
}

/** Saves bytes as a file through a temporary link, as a download button does. */
export function saveFile(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function base64(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(reader.error ?? new Error('could not read the thumbnail'));
    reader.readAsDataURL(blob);
  });
}
