package dev.orchestra.cache.s3;

import dev.orchestra.OrchestraException;
import dev.orchestra.OrchestraInterruptedException;
import dev.orchestra.cache.CacheStore;
import dev.orchestra.spi.Exceptions;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.Objects;
import java.util.Optional;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.AbortedException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * A {@link CacheStore} in an Amazon S3 bucket or any S3-compatible object storage (MinIO, Ceph,
 * Garage, S3Proxy...), through the AWS SDK for Java v2 with its {@code url-connection-client}.
 * Entry {@code key} is the object {@code prefix + key}.
 *
 * <p>Both ways stream: a read is the object's response stream; a write is a multipart upload of
 * fixed-size parts ({@link Builder#partSize(int)}, 8 MiB by default) from one buffer, so memory
 * stays at one part whatever the entry's size; an entry smaller than one part is a single {@code
 * PutObject}. An object appears only when its upload completes; a failed or interrupted write
 * aborts the multipart upload, so no partial entry is ever visible. S3 allows 10,000 parts: 78 GiB
 * at the default part size.
 *
 * <p>Credentials and region come from the SDK's default chains (environment, system properties,
 * profile, container and instance roles) unless given. Thread-safe. {@link #close()} closes the
 * client when the builder made it.
 */
public final class S3Store implements CacheStore, AutoCloseable {

  static final int DEFAULT_PART_SIZE = 8 << 20;
  static final int MIN_PART_SIZE = 5 << 20;

  private final S3Client client;
  private final boolean ownsClient;
  private final String bucket;
  private final String prefix;
  private final int partSize;

  private S3Store(S3Client client, boolean ownsClient, String bucket, String prefix, int partSize) {
    this.client = client;
    this.ownsClient = ownsClient;
    this.bucket = bucket;
    this.prefix = prefix;
    this.partSize = partSize;
  }

  /**
   * A store on a client of the caller's, who keeps closing it.
   *
   * @param client the S3 client
   * @param bucket the bucket, which must exist
   * @param prefix prepended to every key, for example {@code "ci-cache/"}; may be empty
   * @return the store
   */
  public static S3Store of(S3Client client, String bucket, String prefix) {
    return new S3Store(
        Objects.requireNonNull(client, "client"),
        false,
        requireBucket(bucket),
        Objects.requireNonNull(prefix, "prefix"),
        DEFAULT_PART_SIZE);
  }

  /**
   * Starts a store that makes its own client.
   *
   * @param bucket the bucket, which must exist
   * @return a builder
   */
  public static Builder builder(String bucket) {
    return new Builder(requireBucket(bucket));
  }

  @Override
  public Optional<InputStream> get(String key) {
    String object = object(key);
    try {
      return Optional.of(client.getObject(b -> b.bucket(bucket).key(object)));
    } catch (NoSuchKeyException e) {
      return Optional.empty();
    } catch (S3Exception e) {
      if (e.awsErrorDetails() != null && "NoSuchKey".equals(e.awsErrorDetails().errorCode())) {
        return Optional.empty();
      }
      throw failure("reading " + describe(object), e);
    } catch (SdkException e) {
      throw failure("reading " + describe(object), e);
    }
  }

  @Override
  public void put(String key, EntryWriter writer) {
    String object = object(key);
    String what = "writing " + describe(object);
    try (var upload = new MultipartUploadStream(client, bucket, object, partSize)) {
      try {
        writer.writeTo(upload);
        upload.complete();
      } catch (IOException | RuntimeException | Error e) {
        upload.abort(e);
        throw e;
      }
    } catch (IOException e) {
      if (Exceptions.isInterruption(e)) {
        throw Exceptions.launder(what, e);
      }
      throw new UncheckedIOException(what + " failed: " + e, e);
    } catch (SdkException e) {
      throw failure(what, e);
    }
  }

  @Override
  public void delete(String key) {
    String object = object(key);
    try {
      client.deleteObject(b -> b.bucket(bucket).key(object));
    } catch (SdkException e) {
      throw failure("deleting " + describe(object), e);
    }
  }

  /** Closes the client if this store made it; a client of the caller's stays open. */
  @Override
  public void close() {
    if (ownsClient) {
      client.close();
    }
  }

  private String object(String key) {
    return prefix + CacheStore.checkKey(key);
  }

  private String describe(String object) {
    return "s3://" + bucket + "/" + object;
  }

  static RuntimeException failure(String what, SdkException e) {
    if (e instanceof AbortedException || Thread.currentThread().isInterrupted()) {
      Thread.currentThread().interrupt();
      return new OrchestraInterruptedException(what + " was interrupted", e);
    }
    return new OrchestraException(what + " failed: " + e.getMessage(), e);
  }

  private static String requireBucket(String bucket) {
    if (bucket == null || bucket.isBlank()) {
      throw new IllegalArgumentException("an S3 store needs a bucket name, got '" + bucket + "'");
    }
    return bucket;
  }

  @Override
  public String toString() {
    return "S3Store[s3://" + bucket + "/" + prefix + "]";
  }

  /** Configures an {@link S3Store} that makes and owns its client. */
  public static final class Builder {
    private final String bucket;
    private String prefix = "";
    private URI endpoint;
    private boolean pathStyle;
    private Region region;
    private AwsCredentialsProvider credentials;
    private int partSize = DEFAULT_PART_SIZE;

    private Builder(String bucket) {
      this.bucket = bucket;
    }

    /**
     * The prefix of every object name, for example {@code "ci-cache/"}. Default: none.
     *
     * @param prefix the prefix; may be empty
     * @return this builder
     */
    public Builder prefix(String prefix) {
      this.prefix = Objects.requireNonNull(prefix, "prefix");
      return this;
    }

    /**
     * The endpoint of an S3-compatible store, for example {@code http://127.0.0.1:9000}. With an
     * endpoint, the region defaults to {@code us-east-1} and checksums are sent only where S3
     * requires them (compatible stores often lack the newer ones). Default: AWS's endpoints.
     *
     * @param endpoint the endpoint
     * @return this builder
     */
    public Builder endpoint(URI endpoint) {
      this.endpoint = Objects.requireNonNull(endpoint, "endpoint");
      return this;
    }

    /**
     * Whether to address the bucket in the path ({@code host/bucket/key}) rather than in the host
     * name ({@code bucket.host/key}), as most S3-compatible stores need. Default: {@code false}.
     *
     * @param pathStyle {@code true} for path-style access
     * @return this builder
     */
    public Builder pathStyle(boolean pathStyle) {
      this.pathStyle = pathStyle;
      return this;
    }

    /**
     * The region, for example {@code eu-west-1}. Default: the SDK's region chain ({@code
     * AWS_REGION}, the profile...), or {@code us-east-1} with an {@link #endpoint(URI)}.
     *
     * @param region the region's id
     * @return this builder
     */
    public Builder region(String region) {
      this.region = Region.of(Objects.requireNonNull(region, "region"));
      return this;
    }

    /**
     * Credentials other than the SDK's default chain.
     *
     * @param credentials where credentials come from
     * @return this builder
     */
    public Builder credentials(AwsCredentialsProvider credentials) {
      this.credentials = Objects.requireNonNull(credentials, "credentials");
      return this;
    }

    /**
     * Fixed credentials: an access key and its secret.
     *
     * @param accessKeyId the access key id
     * @param secretAccessKey the secret access key
     * @return this builder
     */
    public Builder credentials(String accessKeyId, String secretAccessKey) {
      return credentials(
          StaticCredentialsProvider.create(
              AwsBasicCredentials.create(accessKeyId, secretAccessKey)));
    }

    /**
     * The size of an upload's parts, which is also the memory a write holds. At least 5 MiB (S3's
     * minimum). Default: 8 MiB.
     *
     * @param bytes the part size in bytes
     * @return this builder
     * @throws IllegalArgumentException if below 5 MiB
     */
    public Builder partSize(int bytes) {
      if (bytes < MIN_PART_SIZE) {
        throw new IllegalArgumentException(
            "S3 part size must be at least 5 MiB (" + MIN_PART_SIZE + " bytes), got " + bytes);
      }
      this.partSize = bytes;
      return this;
    }

    /**
     * Makes the client and the store.
     *
     * @return the store; close it to close its client
     */
    public S3Store build() {
      S3ClientBuilder b =
          S3Client.builder()
              .httpClient(UrlConnectionHttpClient.builder().build())
              .forcePathStyle(pathStyle);
      if (endpoint != null) {
        b.endpointOverride(endpoint)
            .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
            .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
      }
      if (region != null) {
        b.region(region);
      } else if (endpoint != null) {
        b.region(Region.US_EAST_1);
      }
      if (credentials != null) {
        b.credentialsProvider(credentials);
      }
      return new S3Store(b.build(), true, bucket, prefix, partSize);
    }
  }
}
