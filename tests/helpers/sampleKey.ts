/** A real ed25519 public key, and the fingerprint `ssh-keygen -lf` printed for it (validators.test.ts checks). */
export const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHgglag4SI7pzi/6EJDdhb1jbS8gUsCU/g5eGalfjcXp";
