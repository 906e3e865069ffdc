package dev.orchestra.cache.s3;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * An object upload of unknown length in constant memory: bytes fill one part-sized buffer, each
 * full buffer is uploaded as the next part of a multipart upload (started with the first full
 * part), and {@link #complete()} uploads the rest and completes it. An object smaller than a part
 * is a single {@code PutObject}. Until {@link #complete()} returns, nothing is visible under the
 * object's key; {@link #abort(Throwable)} (or {@link #close()} before completion) aborts the
 * multipart upload so that its parts do not linger. Not thread-safe: one writer.
 *
 * <p>The requests run on a thread of the stream's own, and the writer waits for each: an interrupt
 * of the writer takes effect between requests, never in the middle of one (a part cut off in the
 * middle can stay behind on some servers, where an abort then fails to remove it).
 */
final class MultipartUploadStream extends OutputStream {

  private static final Logger LOG = LoggerFactory.getLogger(MultipartUploadStream.class);
  private static final int MAX_PARTS = 10_000;

  private final S3Client client;
  private final String bucket;
  private final String key;
  private final byte[] buffer;
  private final List<CompletedPart> parts = new ArrayList<>();
  private int filled;
  private String uploadId;
  private boolean finished;
  private final ExecutorService requests;

  MultipartUploadStream(S3Client client, String bucket, String key, int partSize) {
    this.client = client;
    this.bucket = bucket;
    this.key = key;
    this.buffer = new byte[partSize];
    this.requests =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "orchestra-s3-upload");
              t.setDaemon(true);
              return t;
            });
  }

  @Override
  public void write(int b) throws IOException {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    if (finished) {
      throw new IOException("the upload of s3://" + bucket + "/" + key + " is finished");
    }
    checkInterrupt();
    while (len > 0) {
      int n = Math.min(len, buffer.length - filled);
      System.arraycopy(b, off, buffer, filled, n);
      filled += n;
      off += n;
      len -= n;
      if (filled == buffer.length) {
        uploadPart();
      }
    }
  }

  /** Uploads what is buffered and makes the object visible. */
  void complete() throws IOException {
    if (finished) {
      throw new IOException("the upload of s3://" + bucket + "/" + key + " is finished");
    }
    if (uploadId == null) {
      RequestBody body = body();
      long length = filled;
      request(() -> client.putObject(b -> b.bucket(bucket).key(key).contentLength(length), body));
    } else {
      if (filled > 0) {
        uploadPart();
      }
      checkInterrupt();
      request(
          () ->
              client.completeMultipartUpload(
                  b ->
                      b.bucket(bucket)
                          .key(key)
                          .uploadId(uploadId)
                          .multipartUpload(m -> m.parts(parts))));
    }
    finished = true;
    requests.shutdown();
    LOG.debug("uploaded s3://{}/{} in {} part(s)", bucket, key, Math.max(1, parts.size()));
  }

  /**
   * Aborts the multipart upload, if one was started. Runs even on an interrupted thread (the flag
   * is set again afterwards); a failure to abort is logged and added to {@code cause}.
   */
  void abort(Throwable cause) {
    if (finished) {
      return;
    }
    finished = true;
    if (uploadId == null) {
      requests.shutdown();
      return;
    }
    try {
      request(() -> client.abortMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId)));
      LOG.debug("aborted the multipart upload {} of s3://{}/{}", uploadId, bucket, key);
    } catch (SdkException | IOException e) {
      LOG.warn(
          "could not abort the multipart upload {} of s3://{}/{} (a bucket lifecycle rule for"
              + " incomplete multipart uploads removes its parts): {}",
          uploadId,
          bucket,
          key,
          e.toString()
              + (e instanceof S3Exception s3 && s3.awsErrorDetails() != null
                  ? " " + s3.awsErrorDetails().errorCode()
                  : ""));
      if (cause != null) {
        cause.addSuppressed(e);
      }
    } finally {
      requests.shutdown();
    }
  }

  /** Aborts an upload that was not completed. */
  @Override
  public void close() {
    abort(null);
  }

  private void uploadPart() throws IOException {
    if (parts.size() == MAX_PARTS) {
      throw new IOException(
          "s3://"
              + bucket
              + "/"
              + key
              + " would need more than "
              + MAX_PARTS
              + " parts of "
              + buffer.length
              + " bytes: choose a larger part size");
    }
    if (uploadId == null) {
      uploadId =
          request(() -> client.createMultipartUpload(b -> b.bucket(bucket).key(key))).uploadId();
      checkInterrupt();
    }
    int number = parts.size() + 1;
    RequestBody body = body();
    long length = filled;
    String etag =
        request(
                () ->
                    client.uploadPart(
                        b ->
                            b.bucket(bucket)
                                .key(key)
                                .uploadId(uploadId)
                                .partNumber(number)
                                .contentLength(length),
                        body))
            .eTag();
    parts.add(CompletedPart.builder().partNumber(number).eTag(etag).build());
    filled = 0;
    checkInterrupt();
  }

  /**
   * Runs one request on the stream's thread and waits for it to end, also if this thread is
   * interrupted meanwhile (the interrupt flag is then set again afterwards).
   */
  private <T> T request(Callable<T> call) throws IOException {
    Future<T> result = requests.submit(call);
    boolean interrupted = false;
    try {
      while (true) {
        try {
          return result.get();
        } catch (InterruptedException e) {
          interrupted = true;
        } catch (ExecutionException e) {
          if (e.getCause() instanceof RuntimeException r) {
            throw r;
          }
          if (e.getCause() instanceof Error r) {
            throw r;
          }
          throw new IOException(e.getCause());
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void checkInterrupt() throws InterruptedIOException {
    if (Thread.currentThread().isInterrupted()) {
      throw new InterruptedIOException(
          "the upload of s3://" + bucket + "/" + key + " was interrupted");
    }
  }

  /** The buffered bytes as a body the SDK may read more than once (signing, retries). */
  private RequestBody body() {
    byte[] data = buffer;
    int length = filled;
    return RequestBody.fromContentProvider(
        () -> new ByteArrayInputStream(data, 0, length), length, "application/octet-stream");
  }
}
