/**
 * What Medusa's in-memory workflow engine module (workflow-engine-inmemory's storage) does for a
 * workflow, reduced to the parts the plugin's delivery relies on, so that a test runs the plugin's
 * workflows through Medusa's real orchestrator without a database:
 * - a transaction is kept until it finishes; a finished one is kept only with the workflow's
 *   `retentionTime`, and loaded again only by an `idempotent` workflow;
 * - the first save of a transaction whose id is already stored is refused (SkipExecutionError);
 * - a scheduled retry runs the workflow again by its transaction id after the interval, as the engine's
 *   `run(workflowId, { transactionId })` does.
 */
import type { MedusaContainer } from "@medusajs/framework/types"
import {
  DistributedTransaction,
  DistributedTransactionStorage,
  SkipExecutionError,
  type TransactionCheckpoint,
  TransactionState,
} from "@medusajs/framework/orchestration"
import { MedusaWorkflow } from "@medusajs/framework/workflows-sdk"

const FINISHED = new Set<string>([TransactionState.DONE, TransactionState.FAILED, TransactionState.REVERTED])

type Transaction = { modelId: string; transactionId: string }
type Step = { id: string }

export class WorkflowEngineDouble extends DistributedTransactionStorage {
  private readonly checkpoints = new Map<string, TransactionCheckpoint>()
  private readonly timers = new Map<string, NodeJS.Timeout>()
  /** The intervals (in seconds) of the retries the orchestrator scheduled, in order. */
  readonly scheduledRetries: number[] = []

  constructor(private readonly container: MedusaContainer) {
    super()
    DistributedTransaction.setStorage(this)
  }

  async get(key: string, options?: { idempotent?: boolean }): Promise<TransactionCheckpoint | undefined> {
    const stored = this.checkpoints.get(key)
    if (!stored || (FINISHED.has(stored.flow.state) && !options?.idempotent)) {
      return undefined
    }
    return JSON.parse(JSON.stringify(stored)) as TransactionCheckpoint
  }

  async save(
    key: string,
    data: TransactionCheckpoint,
    _ttl?: number,
    options?: { retentionTime?: number }
  ): Promise<TransactionCheckpoint> {
    const { state, transactionId } = data.flow
    if (state === TransactionState.NOT_STARTED && !transactionId.startsWith("auto-") && this.checkpoints.has(key)) {
      throw new SkipExecutionError(`Transaction already started for transactionId: ${transactionId}`)
    }
    if (FINISHED.has(state) && !options?.retentionTime) {
      this.checkpoints.delete(key)
    } else {
      this.checkpoints.set(key, JSON.parse(JSON.stringify(data)) as TransactionCheckpoint)
    }
    return data
  }

  async scheduleRetry(transaction: Transaction, step: Step, _timestamp: number, interval: number): Promise<void> {
    this.scheduledRetries.push(interval)
    const key = `${transaction.modelId}:${transaction.transactionId}:${step.id}`
    clearTimeout(this.timers.get(key))
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key)
        void this.resume(transaction)
      }, interval * 1000)
    )
  }

  async clearRetry(transaction: Transaction, step: Step): Promise<void> {
    const key = `${transaction.modelId}:${transaction.transactionId}:${step.id}`
    clearTimeout(this.timers.get(key))
    this.timers.delete(key)
  }

  async clearTransactionTimeout(): Promise<void> {}
  async clearStepTimeout(): Promise<void> {}

  /** The stored state of a transaction, once it is finished or while it runs. */
  state(workflowId: string, transactionId: string): string | undefined {
    return this.checkpoints.get(`dtrx:${workflowId}:${transactionId}`)?.flow.state
  }

  close(): void {
    for (const timer of this.timers.values()) clearTimeout(timer)
    this.timers.clear()
  }

  private async resume({ modelId, transactionId }: Transaction): Promise<void> {
    const workflow = MedusaWorkflow.getWorkflow(modelId)
    await workflow?.(this.container).run({ context: { transactionId }, throwOnError: false })
  }
}
