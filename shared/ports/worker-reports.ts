/**
 * What each hybrid worker says about itself, so an operator command can see which certificate
 * the workers use now (`dialtone cert rotate` waits for every live worker to report the new
 * thumbprint). A report carries no key material: thumbprint, Key Vault version and expiry only.
 * A worker serving registered tenants reports once per tenant, each with that tenant's certificate.
 */
export interface WorkerCertificateReport {
  workerId: string;
  tenantId: string;
  thumbprint: string;
  version: string;
  notAfter: string;
  reportedAt: string;
}

export interface WorkerReports {
  report(report: WorkerCertificateReport): Promise<void>;
  list(): Promise<WorkerCertificateReport[]>;
}
