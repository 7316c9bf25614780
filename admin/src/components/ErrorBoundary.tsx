import { Component, type ComponentChildren } from 'preact';
import { errorMessage } from '../lib/errors';

interface Props {
  children: ComponentChildren;
  /** Changing it clears a caught error (e.g. the route). */
  resetKey?: string;
}
interface State {
  error: unknown;
  resetKey?: string;
}

/** A rendering error shows a message instead of a blank page. */
export class ErrorBoundary extends Component<Props, State> {
  override state: State = { error: null };

  static override getDerivedStateFromProps(props: Props, state: State): Partial<State> | null {
    if (props.resetKey !== state.resetKey) return { error: null, resetKey: props.resetKey };
    return null;
  }

  override componentDidCatch(error: unknown): void {
    this.setState({ error });
  }

  override render() {
    if (this.state.error) {
      return (
        <div class="panel-message error" role="alert" data-testid="render-error">
          <p>Something went wrong while showing this page: {errorMessage(this.state.error)}</p>
          <button type="button" class="btn" onClick={() => this.setState({ error: null })}>
            Try again
          </button>
        </div>
      );
    }
    return this.props.children;
  }
}
