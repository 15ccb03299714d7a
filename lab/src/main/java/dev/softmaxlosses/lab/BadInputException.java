package dev.softmaxlosses.lab;

/** Bad input to a command: reported as one {@code error:} line with exit status 2. */
public final class BadInputException extends RuntimeException {
    public BadInputException(String message) {
        super(message, null, false, false);
    }
}
