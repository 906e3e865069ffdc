package dev.orchestra.kubernetes.kubelet;

import java.util.Map;

/**
 * Kubernetes' dependent variable expansion, which the kubelet applies to a container's {@code
 * command}, {@code args} and {@code env} values: {@code $(NAME)} becomes the value of the variable
 * {@code NAME} when it is defined (earlier in {@code env} for an env value, anywhere in it for the
 * command and arguments) and stays as written otherwise; {@code $$} becomes {@code $}; any other
 * {@code $} stays. See kubernetes.io "Define Dependent Environment Variables" and the API reference
 * of {@code Container.command}: "Variable references $(VAR_NAME) are expanded using the container's
 * environment. If a variable cannot be resolved, the reference in the input string will be
 * unchanged. Double $$ are reduced to a single $, which allows for escaping the $(VAR_NAME)
 * syntax".
 */
final class Expansion {

  private Expansion() {}

  /** The text with its references expanded from {@code variables}. */
  static String expand(String text, Map<String, String> variables) {
    StringBuilder out = new StringBuilder(text.length());
    int i = 0;
    while (i < text.length()) {
      char c = text.charAt(i);
      if (c != '$' || i + 1 == text.length()) {
        out.append(c);
        i++;
        continue;
      }
      char next = text.charAt(i + 1);
      if (next == '$') {
        out.append('$');
        i += 2;
      } else if (next == '(') {
        int close = text.indexOf(')', i + 2);
        if (close < 0) {
          out.append(text, i, text.length());
          break;
        }
        String name = text.substring(i + 2, close);
        String value = variables.get(name);
        out.append(value != null ? value : text.substring(i, close + 1));
        i = close + 1;
      } else {
        out.append(c);
        i++;
      }
    }
    return out.toString();
  }
}
