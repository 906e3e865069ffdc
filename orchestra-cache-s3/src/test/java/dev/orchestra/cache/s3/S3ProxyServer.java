package dev.orchestra.cache.s3;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Properties;
import java.util.stream.Stream;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStore;
import org.jclouds.blobstore.BlobStoreContext;

/**
 * A real S3-compatible server in this JVM: S3Proxy on a free loopback port, its objects in files
 * under a temporary directory (so large objects do not fill the heap), with signature v4
 * authentication.
 */
final class S3ProxyServer {

  static final String ACCESS_KEY = "orchestra-access";
  static final String SECRET_KEY = "orchestra-secret";

  private final Path directory;
  private final BlobStoreContext context;
  private final S3Proxy proxy;

  S3ProxyServer() throws Exception {
    directory = Files.createTempDirectory("s3proxy-");
    var properties = new Properties();
    properties.setProperty("jclouds.filesystem.basedir", directory.toString());
    context =
        ContextBuilder.newBuilder("filesystem")
            .credentials("unused", "unused")
            .overrides(properties)
            .build(BlobStoreContext.class);
    proxy =
        S3Proxy.builder()
            .blobStore(context.getBlobStore())
            .endpoint(URI.create("http://127.0.0.1:0"))
            .awsAuthentication(AuthenticationType.AWS_V4, ACCESS_KEY, SECRET_KEY)
            .build();
    proxy.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> "STARTED".equals(proxy.getState()));
  }

  URI endpoint() {
    return URI.create("http://127.0.0.1:" + proxy.getPort());
  }

  BlobStore blobStore() {
    return context.getBlobStore();
  }

  void createBucket(String bucket) {
    blobStore().createContainerInLocation(null, bucket);
  }

  S3Store.Builder store(String bucket) {
    return S3Store.builder(bucket)
        .endpoint(endpoint())
        .pathStyle(true)
        .credentials(ACCESS_KEY, SECRET_KEY);
  }

  /** Every regular file the server keeps, objects and the parts of unfinished uploads alike. */
  java.util.List<Path> files() throws IOException {
    try (Stream<Path> walk = Files.walk(directory)) {
      return walk.filter(Files::isRegularFile).toList();
    }
  }

  void close() throws Exception {
    try {
      proxy.stop();
    } finally {
      context.close();
      try (Stream<Path> walk = Files.walk(directory)) {
        for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
          try {
            Files.deleteIfExists(p);
          } catch (IOException e) {
            throw new IllegalStateException("could not delete " + p, e);
          }
        }
      }
    }
  }
}
