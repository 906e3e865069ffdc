/**
 * A cache of volumes between builds: see {@link dev.orchestra.cache.VolumeCache}. zstd compression
 * needs the optional module {@code com.github.luben.zstd_jni}.
 */
module dev.orchestra.cache {
  requires transitive dev.orchestra;
  requires org.slf4j;
  requires static com.github.luben.zstd_jni;

  exports dev.orchestra.cache;
}
