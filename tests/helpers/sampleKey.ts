/** A real ed25519 public key, and the fingerprint `ssh-keygen -lf` printed for it (validators.test.ts checks). */
export const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICE6s1Fdees3dJfZXB4xNANdK3rF9K+45Sx9Z7yAsHao";
