package dev.orchestra.docker;

/**
 * An image reference split the way the pull API wants it: a repository and a tag or digest. Pulling
 * a repository without a tag would pull every tag, so a missing tag becomes {@code latest}.
 *
 * @param repository for example {@code busybox} or {@code registry:5000/team/app}
 * @param tag for example {@code latest}, or a digest such as {@code sha256:...}
 */
record ImageReference(String repository, String tag) {

  /**
   * Splits a reference such as {@code busybox}, {@code busybox:1.36}, {@code host:5000/app} or
   * {@code app@sha256:...}.
   *
   * @param image the reference, as given in a task
   * @return its parts
   */
  static ImageReference parse(String image) {
    int at = image.indexOf('@');
    if (at >= 0) {
      return new ImageReference(image.substring(0, at), image.substring(at + 1));
    }
    int colon = image.lastIndexOf(':');
    if (colon > image.lastIndexOf('/')) {
      return new ImageReference(image.substring(0, colon), image.substring(colon + 1));
    }
    return new ImageReference(image, "latest");
  }
}
