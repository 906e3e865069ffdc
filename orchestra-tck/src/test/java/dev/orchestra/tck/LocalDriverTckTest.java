package dev.orchestra.tck;

import dev.orchestra.Driver;
import dev.orchestra.Orchestra;

/**
 * The local driver's TCK run. It lives here rather than in orchestra-local because orchestra-tck
 * already depends on orchestra-local (for its self-test), and Maven forbids the cycle.
 */
class LocalDriverTckTest extends DriverTck {

  @Override
  protected Driver newDriver(String namespace) {
    return Orchestra.open("local", namespace);
  }
}
