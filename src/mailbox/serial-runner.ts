/**
 * Runs a job so that runs never overlap: a trigger during a run asks for exactly one more run
 * after it (new mail announced mid-run is not missed), and any number of triggers fold into one.
 */
export class SerialRunner<T> {
  private current: Promise<T> | null = null;
  private again = false;

  constructor(private readonly job: () => Promise<T>) {}

  get running(): boolean {
    return this.current !== null;
  }

  trigger(): Promise<T> {
    if (this.current) {
      this.again = true;
      return this.current;
    }
    const loop = async (): Promise<T> => {
      let result: T;
      do {
        this.again = false;
        result = await this.job();
      } while (this.again);
      return result;
    };
    this.current = loop().finally(() => {
      this.current = null;
    });
    return this.current;
  }

  /** Resolves when no run is in progress. */
  async idle(): Promise<void> {
    while (this.current) await this.current.catch(() => undefined);
  }
}
