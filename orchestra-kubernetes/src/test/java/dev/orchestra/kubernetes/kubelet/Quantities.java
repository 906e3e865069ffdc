package dev.orchestra.kubernetes.kubelet;

import java.math.BigDecimal;

/**
 * Resource quantities as
 * https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/#resource-units-in-kubernetes
 * writes them: memory in bytes with decimal (k, M, G, T) or binary (Ki, Mi, Gi, Ti) suffixes or an
 * exponent, CPU in cores or millicores ({@code 500m}).
 */
final class Quantities {

  private Quantities() {}

  static long bytes(String quantity) {
    String q = quantity.trim();
    String[][] suffixes = {
      {"Ki", "1024"},
      {"Mi", "1048576"},
      {"Gi", "1073741824"},
      {"Ti", "1099511627776"},
      {"k", "1000"},
      {"M", "1000000"},
      {"G", "1000000000"},
      {"T", "1000000000000"},
      {"m", "0.001"}
    };
    for (String[] s : suffixes) {
      if (q.endsWith(s[0])) {
        return new BigDecimal(q.substring(0, q.length() - s[0].length()))
            .multiply(new BigDecimal(s[1]))
            .setScale(0, java.math.RoundingMode.CEILING)
            .longValueExact();
      }
    }
    return new BigDecimal(q).setScale(0, java.math.RoundingMode.CEILING).longValueExact();
  }

  static long millicores(String quantity) {
    String q = quantity.trim();
    if (q.endsWith("m")) {
      return Long.parseLong(q.substring(0, q.length() - 1));
    }
    return new BigDecimal(q).multiply(BigDecimal.valueOf(1000)).longValue();
  }

  /** CPU shares for a request, as the kubelet converts them (1 core = 1024 shares, at least 2). */
  static int shares(String cpuRequest) {
    return (int) Math.max(2, millicores(cpuRequest) * 1024 / 1000);
  }
}
